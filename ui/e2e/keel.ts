import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** A real `keel serve` on 127.0.0.1, a free port, an empty data dir. */
export interface Keel {
  url: string;
  stop: () => Promise<void>;
}

export async function startKeel(): Promise<Keel> {
  const bin = resolve(process.env.KEEL_BIN ?? join(import.meta.dirname, "../../target/debug/keel"));
  const dataDir = mkdtempSync(join(tmpdir(), "keel-e2e-"));
  const child = spawn(bin, ["serve", "--bind", "127.0.0.1:0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("keel did not start within 20 s")), 20_000);
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /Keel listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on("exit", (code) => fail(new Error(`keel exited with ${code} before listening: ${out}`)));
    child.on("error", fail);
  }).catch((e: unknown) => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
