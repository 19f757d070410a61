CREATE TYPE "public"."message_role" AS ENUM('user', 'assistant');--> statement-breakpoint
CREATE TYPE "public"."message_status" AS ENUM('pending', 'streaming', 'complete', 'failed', 'cancelled', 'interrupted');--> statement-breakpoint
CREATE TYPE "public"."part_kind" AS ENUM('text', 'image', 'visual_ref');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"sha256" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"mime_type" text NOT NULL,
	"byte_size" integer NOT NULL,
	"data" "bytea",
	"storage_key" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_owner_sha256_key" UNIQUE("owner_id","sha256"),
	CONSTRAINT "images_id_owner_key" UNIQUE("id","owner_id"),
	CONSTRAINT "images_one_location" CHECK (("images"."data" IS NULL) <> ("images"."storage_key" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "message_events" (
	"message_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_events_pkey" PRIMARY KEY("message_id","seq")
);
--> statement-breakpoint
CREATE TABLE "message_parts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"message_id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"ordinal" integer NOT NULL,
	"kind" "part_kind" NOT NULL,
	"text" text,
	"image_id" uuid,
	"ref_index" integer,
	"label" text,
	"patches" integer[],
	"box_x" double precision,
	"box_y" double precision,
	"box_width" double precision,
	"box_height" double precision,
	"mask_counts" text,
	"mask_height" integer,
	"mask_width" integer,
	"mask_area" integer,
	"score" double precision,
	"decoded" boolean DEFAULT false NOT NULL,
	CONSTRAINT "message_parts_message_ordinal_key" UNIQUE("message_id","ordinal"),
	CONSTRAINT "message_parts_kind_fields" CHECK (CASE "message_parts"."kind"
        WHEN 'text' THEN "message_parts"."text" IS NOT NULL AND "message_parts"."image_id" IS NULL
        WHEN 'image' THEN "message_parts"."image_id" IS NOT NULL AND "message_parts"."text" IS NULL
        ELSE "message_parts"."image_id" IS NOT NULL AND "message_parts"."patches" IS NOT NULL AND "message_parts"."ref_index" IS NOT NULL
      END),
	CONSTRAINT "message_parts_box_whole" CHECK (num_nulls("message_parts"."box_x", "message_parts"."box_y", "message_parts"."box_width", "message_parts"."box_height") IN (0, 4)),
	CONSTRAINT "message_parts_mask_whole" CHECK (num_nulls("message_parts"."mask_counts", "message_parts"."mask_height", "message_parts"."mask_width", "message_parts"."mask_area") IN (0, 4))
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"role" "message_role" NOT NULL,
	"status" "message_status" NOT NULL,
	"reply_to_id" uuid,
	"task" text,
	"task_input" jsonb,
	"options" jsonb,
	"result" jsonb,
	"error_code" text,
	"error_message" text,
	"usage" jsonb,
	"idempotency_key" text,
	"input_hash" text,
	"lease_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp (3) with time zone,
	"last_seq" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "messages_id_owner_key" UNIQUE("id","owner_id"),
	CONSTRAINT "messages_idempotency_pair" CHECK (("messages"."idempotency_key" IS NULL) = ("messages"."input_hash" IS NULL)),
	CONSTRAINT "messages_last_seq_nonnegative" CHECK ("messages"."last_seq" >= 0)
);
--> statement-breakpoint
CREATE TABLE "owners" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" uuid NOT NULL,
	"title" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_id_owner_key" UNIQUE("id","owner_id")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_parts" ADD CONSTRAINT "message_parts_message_fk" FOREIGN KEY ("message_id","owner_id") REFERENCES "public"."messages"("id","owner_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message_parts" ADD CONSTRAINT "message_parts_image_fk" FOREIGN KEY ("image_id","owner_id") REFERENCES "public"."images"("id","owner_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_session_fk" FOREIGN KEY ("session_id","owner_id") REFERENCES "public"."sessions"("id","owner_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_reply_to_fk" FOREIGN KEY ("reply_to_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_owner_id_owners_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."owners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_owner_idx" ON "api_keys" USING btree ("owner_id");--> statement-breakpoint
CREATE UNIQUE INDEX "message_parts_message_ref_idx" ON "message_parts" USING btree ("message_id","ref_index") WHERE "message_parts"."kind" = 'visual_ref';--> statement-breakpoint
CREATE INDEX "message_parts_image_idx" ON "message_parts" USING btree ("image_id");--> statement-breakpoint
CREATE UNIQUE INDEX "messages_owner_idempotency_idx" ON "messages" USING btree ("owner_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "messages_session_page_idx" ON "messages" USING btree ("session_id","created_at","id");--> statement-breakpoint
CREATE INDEX "messages_reply_to_idx" ON "messages" USING btree ("reply_to_id");--> statement-breakpoint
CREATE INDEX "messages_unfinished_idx" ON "messages" USING btree ("status") WHERE "messages"."status" IN ('pending', 'streaming');--> statement-breakpoint
CREATE INDEX "sessions_owner_page_idx" ON "sessions" USING btree ("owner_id","created_at","id");