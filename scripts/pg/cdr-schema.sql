-- Yeti's CDR table for local runs and CI: cdr.cdr as yeti-web's db/cdr_structure.sql declares it, reduced
-- to the columns a customer or an operator export can write (same names, types and order), partitioned
-- by day on time_start, with its primary key and the indexes an export's query uses. Day partitions are
-- added by scripts/pg/seed.mjs (and the bench) for the days they load. Run by scripts/pg/setup.sh.
DROP SCHEMA IF EXISTS cdr CASCADE;
CREATE SCHEMA cdr;

CREATE TABLE cdr.cdr (
    id bigint NOT NULL,
    customer_id integer,
    vendor_id integer,
    customer_acc_id integer,
    vendor_acc_id integer,
    customer_auth_id integer,
    orig_gw_id integer,
    term_gw_id integer,
    destination_next_rate numeric,
    destination_fee numeric,
    customer_price numeric,
    duration integer,
    success boolean,
    dst_prefix_in character varying,
    dst_prefix_out character varying,
    src_prefix_in character varying,
    src_prefix_out character varying,
    time_start timestamp with time zone NOT NULL,
    time_connect timestamp with time zone,
    time_end timestamp with time zone,
    orig_call_id character varying,
    local_tag character varying,
    destination_initial_rate numeric,
    destination_initial_interval integer,
    destination_next_interval integer,
    is_last_cdr boolean,
    lega_disconnect_code integer,
    lega_disconnect_reason character varying,
    src_name_in character varying,
    diversion_in character varying,
    auth_orig_ip inet,
    auth_orig_port integer,
    dst_country_id integer,
    src_prefix_routing character varying,
    dst_prefix_routing character varying,
    destination_prefix character varying,
    ruri_domain character varying,
    to_domain character varying,
    from_domain character varying,
    lega_user_agent character varying,
    uuid uuid,
    customer_duration integer,
    src_country_id integer
)
PARTITION BY RANGE (time_start);

ALTER TABLE ONLY cdr.cdr ADD CONSTRAINT cdr_pkey PRIMARY KEY (id, time_start);
CREATE INDEX cdr_customer_acc_id_time_start_idx1 ON ONLY cdr.cdr USING btree (customer_acc_id, time_start);
CREATE INDEX cdr_customer_id_time_start_idx ON ONLY cdr.cdr USING btree (customer_id, time_start);
CREATE INDEX cdr_id_idx ON ONLY cdr.cdr USING btree (id);
CREATE INDEX cdr_time_start_idx ON ONLY cdr.cdr USING btree (time_start);
CREATE INDEX cdr_vendor_id_time_start_idx ON ONLY cdr.cdr USING btree (vendor_id, time_start);
