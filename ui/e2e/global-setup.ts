import { startKeel } from "./keel";

// Starts the real server once for the run (e2e/keel.ts); its address reaches the tests
// through KEEL_URL.
export default async function globalSetup(): Promise<() => Promise<void>> {
  const keel = await startKeel();
  process.env.KEEL_URL = keel.url;
  return keel.stop;
}
