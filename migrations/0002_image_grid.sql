ALTER TABLE "images" ADD COLUMN "grid_width" integer;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "grid_height" integer;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_grid_whole" CHECK (("images"."grid_width" IS NULL) = ("images"."grid_height" IS NULL));