CREATE TABLE "workers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"capacity" integer NOT NULL,
	"execution_provider" text NOT NULL,
	"running" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"service_ms" double precision,
	"completed" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "workers_model_heartbeat_idx" ON "workers" USING btree ("model","heartbeat_at");