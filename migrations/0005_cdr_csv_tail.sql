ALTER TABLE `cdrs` ADD `csv_tail` text;--> statement-breakpoint
CREATE INDEX `cdrs_csv_tail_missing_idx` ON `cdrs` (`id`) WHERE "cdrs"."csv_tail" IS NULL;