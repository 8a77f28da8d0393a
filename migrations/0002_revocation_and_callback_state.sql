CREATE TABLE `revoked_sessions` (
	`key` text PRIMARY KEY NOT NULL,
	`access_id` integer,
	`customer_id` integer,
	`issued_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer NOT NULL,
	FOREIGN KEY (`access_id`) REFERENCES `api_accesses`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`customer_id`) REFERENCES `contractors`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `api_accesses` ADD `tokens_revoked_at` integer;--> statement-breakpoint
ALTER TABLE `cdr_exports` ADD `callback_status` text;--> statement-breakpoint
ALTER TABLE `cdr_exports` ADD `callback_error` text;--> statement-breakpoint
ALTER TABLE `contractors` ADD `tokens_revoked_at` integer;