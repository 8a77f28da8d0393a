// drizzle-kit writes SQL migrations into the folder wrangler applies (`wrangler d1 migrations apply DB`).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
