// The typed API client. Types come from ui/openapi.json (`npm run gen:api`), which a Rust
// test keeps equal to what the server serves.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { session } from "./session";

export type Schemas = components["schemas"];
export type User = Schemas["UserView"];
export type Workspace = Schemas["WorkspaceView"];
export type Project = Schemas["ProjectView"];
export type Member = Schemas["MemberView"];
export type Invitation = Schemas["InvitationView"];
export type ApiToken = Schemas["ApiTokenView"];
export type WsRole = Schemas["WsRole"];
export type TokenPair = Schemas["TokenPair"];

/** An error answer of the API (`{"error": {"code", "message", "fields"}}`) or of the network. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
    /** An import's problems, each with where it is (`column`: a column, or a path in a document). */
    readonly rows: { row: number; column: string; code: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export const client = createClient<paths>({ baseUrl: "" });

// Requests are kept (cloned) until answered so that one that met an expired access token
// can be sent again after a silent refresh.
const pending = new Map<string, Request>();
const PUBLIC = new Set(["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh", "/api/v1/auth/one-time", "/api/v1/instance/status"]);

const auth: Middleware = {
  async onRequest({ request, schemaPath, id }) {
    if (PUBLIC.has(schemaPath)) return request;
    const token = await session.accessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    pending.set(id, request.clone());
    return request;
  },
  async onResponse({ response, id }) {
    const original = pending.get(id);
    pending.delete(id);
    if (response.status !== 401 || !original || !original.headers.has("Authorization")) return response;
    const token = await session.refreshAfter401();
    if (!token) return response;
    const retry = new Request(original);
    retry.headers.set("Authorization", `Bearer ${token}`);
    return fetch(retry);
  },
  onError({ id, error }) {
    pending.delete(id);
    return new ApiError(0, "network", `Keel could not be reached (${error instanceof Error ? error.message : "network error"})`);
  },
};
client.use(auth);

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful answer, or an `ApiError` thrown with the answer's code. */
export async function unwrap<T>(p: Promise<Answer<T>>): Promise<T> {
  let a: Answer<T>;
  try {
    a = await p;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, "network", "Keel could not be reached; check that it is running");
  }
  if (a.response.ok) return a.data as T;
  const body = a.error as
    | { error?: { code?: string; message?: string; fields?: Record<string, string>; rows?: { row: number; column: string; code: string; message: string }[] } }
    | undefined;
  const e = body?.error;
  if (a.response.status === 401 && !PUBLIC.has(new URL(a.response.url, location.href).pathname)) {
    session.expired();
  }
  throw new ApiError(a.response.status, e?.code ?? `http_${a.response.status}`, e?.message ?? a.response.statusText, e?.fields ?? {}, e?.rows ?? []);
}
