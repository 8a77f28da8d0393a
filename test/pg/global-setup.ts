import type { TestProject } from "vitest/node";

export default function setup(project: TestProject) {
  project.provide(
    "pgSpike",
    `hello ${process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_CDR_DB ?? "none"}`,
  );
}
declare module "vitest" {
  export interface ProvidedContext {
    pgSpike: string;
  }
}
