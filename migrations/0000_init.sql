CREATE TABLE `accounts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text NOT NULL,
	`contractor_id` integer NOT NULL,
	`name` text NOT NULL,
	`balance` text DEFAULT '0.0' NOT NULL,
	`min_balance` text DEFAULT '0.0' NOT NULL,
	`max_balance` text DEFAULT '0.0' NOT NULL,
	`destination_rate_limit` text,
	`origination_capacity` integer,
	`termination_capacity` integer,
	`total_capacity` integer,
	`currency` text DEFAULT 'USD' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`contractor_id`) REFERENCES `contractors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_uuid_unique` ON `accounts` (`uuid`);--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_name_unique` ON `accounts` (`name`);--> statement-breakpoint
CREATE INDEX `accounts_contractor_id_idx` ON `accounts` (`contractor_id`);--> statement-breakpoint
CREATE TABLE `api_accesses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`login` text NOT NULL,
	`password_hash` text NOT NULL,
	`customer_id` integer NOT NULL,
	`account_ids` text DEFAULT '[]' NOT NULL,
	`allowed_ips` text DEFAULT '["0.0.0.0/0","::/0"]' NOT NULL,
	`allow_listen_recording` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`customer_id`) REFERENCES `contractors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_accesses_login_unique` ON `api_accesses` (`login`);--> statement-breakpoint
CREATE INDEX `api_accesses_customer_id_idx` ON `api_accesses` (`customer_id`);--> statement-breakpoint
CREATE TABLE `cdr_exports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`uuid` text NOT NULL,
	`status` text DEFAULT 'Pending' NOT NULL,
	`filters` text NOT NULL,
	`fields` text NOT NULL,
	`time_format` text DEFAULT 'with_timezone' NOT NULL,
	`time_zone_name` text,
	`callback_url` text,
	`rows_count` integer,
	`customer_account_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`step` integer DEFAULT 0 NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`rows_written` integer DEFAULT 0 NOT NULL,
	`cursor_time_start` integer,
	`cursor_id` integer,
	`upload_id` text,
	`parts` text DEFAULT '[]' NOT NULL,
	`tail_key` text,
	`tail_size` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`progress_at` integer,
	`final_rows_count` integer,
	`object_key` text,
	`object_size` integer,
	`error` text,
	FOREIGN KEY (`customer_account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cdr_exports_uuid_unique` ON `cdr_exports` (`uuid`);--> statement-breakpoint
CREATE INDEX `cdr_exports_account_created_idx` ON `cdr_exports` (`customer_account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `cdr_exports_status_progress_idx` ON `cdr_exports` (`status`,`progress_at`);--> statement-breakpoint
CREATE TABLE `cdrs` (
	`id` integer PRIMARY KEY NOT NULL,
	`uuid` text NOT NULL,
	`customer_id` integer,
	`customer_acc_id` integer,
	`vendor_id` integer,
	`vendor_acc_id` integer,
	`customer_auth_id` integer,
	`orig_gw_id` integer,
	`term_gw_id` integer,
	`is_last_cdr` integer,
	`src_prefix_out` text,
	`dst_prefix_out` text,
	`src_country_id` integer,
	`dst_country_id` integer,
	`time_start` integer NOT NULL,
	`time_connect` integer,
	`time_end` integer,
	`success` integer,
	`duration` integer,
	`src_name_in` text,
	`src_prefix_in` text,
	`dst_prefix_in` text,
	`from_domain` text,
	`to_domain` text,
	`ruri_domain` text,
	`lega_disconnect_code` integer,
	`lega_disconnect_reason` text,
	`auth_orig_ip` text,
	`auth_orig_port` integer,
	`src_prefix_routing` text,
	`dst_prefix_routing` text,
	`destination_prefix` text,
	`destination_initial_interval` integer,
	`destination_next_interval` integer,
	`destination_initial_rate` text,
	`destination_next_rate` text,
	`destination_fee` text,
	`customer_price` text,
	`customer_duration` integer,
	`orig_call_id` text,
	`local_tag` text,
	`lega_user_agent` text,
	`diversion_in` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cdrs_uuid_unique` ON `cdrs` (`uuid`);--> statement-breakpoint
CREATE INDEX `cdrs_account_time_idx` ON `cdrs` (`customer_acc_id`,`time_start`,`id`);--> statement-breakpoint
CREATE INDEX `cdrs_customer_time_idx` ON `cdrs` (`customer_id`,`time_start`);--> statement-breakpoint
CREATE INDEX `cdrs_time_idx` ON `cdrs` (`time_start`,`id`);--> statement-breakpoint
CREATE TABLE `contractors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`customer` integer DEFAULT false NOT NULL,
	`vendor` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contractors_name_unique` ON `contractors` (`name`);