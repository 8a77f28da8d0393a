ALTER TABLE `cdr_exports` ADD `rows_progress` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `cdr_exports` ADD `gzip_crc` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `cdr_exports` ADD `gzip_length` integer DEFAULT 0 NOT NULL;