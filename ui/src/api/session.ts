// The signed-in session: the access token lives in memory only; the refresh token is kept
// in localStorage so a reload stays signed in. Refreshes are serialized across tabs with
// the Web Locks API: the server treats a reused refresh token as stolen and ends the
// session, so two tabs must never trade the same one.
import type { components } from "./schema";

type TokenPair = components["schemas"]["TokenPair"];
type User = components["schemas"]["UserView"];

const REFRESH_KEY = "keel.refresh";
const LOCK = "keel-refresh";

type Listener = (user: User | null) => void;

class Session {
  private access: string | null = null;
  private expiresAt = 0;
  private inflight: Promise<string | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private listeners = new Set<Listener>();
  user: User | null = null;

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit() {
    for (const l of this.listeners) l(this.user);
  }

  hasRefreshToken(): boolean {
    return localStorage.getItem(REFRESH_KEY) !== null;
  }

  /** Takes a fresh token pair (sign-in, registration, one-time token, refresh). */
  accept(pair: TokenPair) {
    this.access = pair.access_token;
    this.expiresAt = Date.now() + pair.expires_in * 1000;
    localStorage.setItem(REFRESH_KEY, pair.refresh_token);
    this.user = pair.user;
    clearTimeout(this.timer);
    // Refresh silently a minute before the access token runs out.
    const wait = Math.max(5_000, pair.expires_in * 1000 - 60_000);
    this.timer = setTimeout(() => void this.refresh(), wait);
    this.emit();
  }

  setUser(u: User) {
    this.user = u;
    this.emit();
  }

  /** A valid access token, refreshing first when it is about to expire. */
  async accessToken(): Promise<string | null> {
    if (this.access && Date.now() < this.expiresAt - 30_000) return this.access;
    if (!this.hasRefreshToken()) return this.access;
    return this.refresh();
  }

  /** Called when the server refused an access token: one refresh, then give up. */
  async refreshAfter401(): Promise<string | null> {
    this.access = null;
    return this.refresh();
  }

  refresh(): Promise<string | null> {
    if (!this.inflight) {
      this.inflight = this.withLock(() => this.doRefresh()).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async withLock<T>(f: () => Promise<T>): Promise<T> {
    if (typeof navigator !== "undefined" && navigator.locks) {
      return navigator.locks.request(LOCK, f) as Promise<T>;
    }
    return f();
  }

  private async doRefresh(): Promise<string | null> {
    // Read inside the lock: another tab may have rotated it a moment ago.
    const token = localStorage.getItem(REFRESH_KEY);
    if (!token) return null;
    let res: Response;
    try {
      res = await fetch("/api/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      });
    } catch {
      return null; // offline or server down: keep the refresh token and try later
    }
    if (!res.ok) {
      if (res.status === 401) this.clear();
      return null;
    }
    this.accept((await res.json()) as TokenPair);
    return this.access;
  }

  /** The server said the session is over (revoked, password changed elsewhere...). */
  expired() {
    if (!this.access && !this.hasRefreshToken()) return;
    this.clear();
  }

  clear() {
    this.access = null;
    this.expiresAt = 0;
    this.user = null;
    clearTimeout(this.timer);
    localStorage.removeItem(REFRESH_KEY);
    this.emit();
  }
}

export const session = new Session();

// Signing out in one tab signs out the others.
window.addEventListener("storage", (e) => {
  if (e.key === REFRESH_KEY && e.newValue === null && session.user) session.clear();
});
