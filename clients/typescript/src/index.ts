/**
 * The taskapp client: `openapi-fetch` over the types `openapi-typescript` generated from the
 * API's OpenAPI document (src/schema.d.ts, written by `make client`), plus the one thing every
 * caller would otherwise get wrong: refreshing the session from ONE place.
 *
 * A refresh token is single-use; using the same one twice is taken for theft and revokes the
 * whole session (docs/decisions/0003-refresh-tokens.md). So every request that meets a 401
 * waits for the same in-flight refresh, then is sent again once with the new access token.
 * Across tabs, pass `exclusive` (e.g. the Web Locks API) and a shared `TokenStore`.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export type Schemas = components["schemas"];
export type TokenPair = Schemas["TokenPair"];
export type ErrorBody = Schemas["ErrorBody"];
export type ErrorCode = ErrorBody["code"];
export type Task = Schemas["Task"];
export type TaskApi = Client<paths>;

/** Where the tokens live: memory by default; localStorage if tabs should share a session. */
export interface TokenStore {
  get(): TokenPair | null;
  set(tokens: TokenPair | null): void;
}

export function memoryTokenStore(initial: TokenPair | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

/**
 * Tokens in a Web Storage (`localStorage`): every tab of the origin sees the same session.
 * Pair it with `exclusive` so only one tab at a time refreshes.
 */
export function webStorageTokenStore(storage: Storage, key = "taskapp.tokens"): TokenStore {
  return {
    get: () => {
      const saved = storage.getItem(key);
      return saved === null ? null : (JSON.parse(saved) as TokenPair);
    },
    set: (tokens) => {
      if (tokens === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(tokens));
    },
  };
}

export interface TaskappOptions {
  /** The server, without `/api/v1`: e.g. `http://localhost:8000`. */
  baseUrl: string;
  tokens?: TokenStore;
  fetch?: typeof globalThis.fetch;
  /**
   * Runs the refresh exclusively across tabs, e.g.
   * `(refresh) => navigator.locks.request("taskapp-refresh", refresh)`. Inside it, a tab
   * that finds the tokens already renewed by another tab (a shared store) takes those.
   */
  exclusive?: <T>(refresh: () => Promise<T>) => Promise<T>;
  /** Called once the session is over (the refresh failed): show the login page. */
  onSignedOut?: (error: ErrorBody) => void;
}

export interface Taskapp {
  /** The typed client: `api.GET("/api/v1/tasks", { params: { query: { limit: 20 } } })`. */
  api: TaskApi;
  tokens: TokenStore;
  /** Logs in and keeps the tokens; the answer's `error` says why not. */
  login(email: string, password: string): Promise<ErrorBody | null>;
  /** Renews the tokens; concurrent callers share one request. */
  refresh(): Promise<TokenPair>;
  logout(): Promise<void>;
}

/** Thrown by `refresh()` when the session cannot be renewed (e.g. `TOKEN_REUSED`). */
export class SignedOut extends Error {
  constructor(readonly error: ErrorBody) {
    super(`signed out: ${error.code} (${error.message})`);
    this.name = "SignedOut";
  }
}

/**
 * Thrown by `refresh()` when the session could not be renewed just now: the server was
 * unreachable (`status` null) or answered 429 or 5xx. The tokens are kept; try again later.
 */
export class RefreshUnavailable extends Error {
  constructor(readonly status: number | null) {
    super(status === null ? "the server could not be reached" : `the refresh answered ${status}`);
    this.name = "RefreshUnavailable";
  }
}

const WITHOUT_SESSION = new Set(["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"]);

interface Replay {
  method: string;
  url: string;
  headers: Headers;
  body: ArrayBuffer | null;
  accessToken: string;
}

export function createTaskapp(options: TaskappOptions): Taskapp {
  const tokens = options.tokens ?? memoryTokenStore();
  const send = options.fetch ?? globalThis.fetch.bind(globalThis);
  const exclusive = options.exclusive ?? (<T>(refresh: () => Promise<T>) => refresh());
  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: send });
  const replays = new Map<string, Replay>();
  let inFlight: Promise<TokenPair> | null = null;

  async function renew(stale: string | undefined): Promise<TokenPair> {
    return exclusive(async () => {
      const current = tokens.get();
      if (current === null) throw new SignedOut(notSignedIn());
      // Another tab (sharing the store) renewed them while we waited for the lock.
      if (stale !== undefined && current.access_token !== stale) return current;
      let answer;
      try {
        answer = await api.POST("/api/v1/auth/refresh", { body: { refresh_token: current.refresh_token } });
      } catch {
        throw new RefreshUnavailable(null); // the server is unreachable: the session may be fine
      }
      const { data, error, response } = answer;
      // Only a 401 ends the session (the refresh token is expired, revoked or reused); a 429
      // or 5xx (an outage) keeps the tokens for a later try.
      if (data === undefined && response.status !== 401) throw new RefreshUnavailable(response.status);
      if (data === undefined) {
        const reason = error?.error ?? notSignedIn();
        tokens.set(null);
        options.onSignedOut?.(reason);
        throw new SignedOut(reason);
      }
      tokens.set(data.data);
      return data.data;
    });
  }

  function refresh(stale?: string): Promise<TokenPair> {
    inFlight ??= renew(stale ?? tokens.get()?.access_token).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  const session: Middleware = {
    async onRequest({ request, schemaPath, id }) {
      const current = tokens.get();
      if (WITHOUT_SESSION.has(schemaPath) || current === null) return undefined;
      if (request.headers.has("Authorization")) return undefined; // the caller chose one
      request.headers.set("Authorization", `Bearer ${current.access_token}`);
      replays.set(id, {
        method: request.method,
        url: request.url,
        headers: new Headers(request.headers),
        body: request.body === null ? null : await request.clone().arrayBuffer(),
        accessToken: current.access_token,
      });
      return request;
    },
    async onResponse({ response, id }) {
      const replay = replays.get(id);
      replays.delete(id);
      if (replay === undefined || response.status !== 401) return undefined;
      let fresh: TokenPair;
      try {
        fresh = await refresh(replay.accessToken);
      } catch (error) {
        // The original 401 stands: the session is over, or it could not be renewed just now.
        if (error instanceof SignedOut || error instanceof RefreshUnavailable) return undefined;
        throw error;
      }
      replay.headers.set("Authorization", `Bearer ${fresh.access_token}`);
      return send(new Request(replay.url, { method: replay.method, headers: replay.headers, body: replay.body }));
    },
    onError({ id }) {
      replays.delete(id);
    },
  };
  api.use(session);

  return {
    api,
    tokens,
    async login(email, password) {
      const { data, error } = await api.POST("/api/v1/auth/login", { body: { email, password } });
      if (data === undefined) return error?.error ?? notSignedIn();
      tokens.set(data.data);
      return null;
    },
    refresh: () => refresh(),
    async logout() {
      const current = tokens.get();
      if (current !== null) {
        await api.POST("/api/v1/auth/logout", { body: { refresh_token: current.refresh_token } });
      }
      tokens.set(null);
    },
  };
}

export interface LiveEventsOptions {
  /**
   * Start after this cursor: a full `/sync`'s last `cursor`, or a write's `X-Sync-Cursor`.
   * Changes made before the stream opened are then not missed. Without it: from now.
   */
  cursor?: string;
  /** The event names to listen for (default: all of them). */
  eventTypes?: readonly string[];
  /** Called each time the stream is (re)connected. */
  onOpen?: () => void;
  /** Called once the client gives up because the session is over (a ticket refused with 401). */
  onSignedOut?: () => void;
  /** Called once the client gives up because these credentials may not read events (403). */
  onForbidden?: () => void;
  /** The first wait before a new ticket after a failure (ms, default 1000); it doubles up to a minute. */
  retryMs?: number;
}

/**
 * Live events: a single-use ticket (POST /events/ticket) in the EventSource URL, because an
 * EventSource cannot send an Authorization header. A ticket works once, so when the stream
 * ends for good (EventSource's own reconnect is refused: its ticket is spent), a new ticket
 * is taken and the stream resumes after the last event's id: nothing is missed between.
 * Failures back off (doubling, with jitter, at least the server's Retry-After); a 401 or 403
 * on the ticket stops for good. `close()` stops everything, pending retries included.
 */
export function liveEvents(
  taskapp: Taskapp,
  baseUrl: string,
  onEvent: (type: string, data: unknown, id: string) => void,
  options: LiveEventsOptions = {},
): { close(): void } {
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let failures = 0;
  let lastId: string | null = options.cursor ?? null;

  function stop(): void {
    closed = true;
    clearTimeout(timer);
    source?.close();
  }

  function again(retryAfterSeconds = 0): void {
    if (closed) return;
    failures += 1;
    const backoff = Math.min((options.retryMs ?? 1000) * 2 ** (failures - 1), 60_000);
    const wait = Math.max(backoff * (0.5 + Math.random() / 2), retryAfterSeconds * 1000);
    timer = setTimeout(() => void open(), wait);
  }

  async function open(): Promise<void> {
    if (closed) return;
    let answer;
    try {
      answer = await taskapp.api.POST("/api/v1/events/ticket");
    } catch {
      return again(); // the server is unreachable
    }
    if (closed) return;
    const { data, response } = answer;
    if (response.status === 401 || response.status === 403) {
      stop();
      (response.status === 401 ? options.onSignedOut : options.onForbidden)?.();
      return;
    }
    if (data === undefined) return again(Number(response.headers.get("Retry-After")) || 0);
    const url = new URL("/api/v1/events", baseUrl);
    url.searchParams.set("ticket", data.data.ticket);
    if (lastId !== null) url.searchParams.set("cursor", lastId);
    const stream = new EventSource(url);
    source = stream;
    stream.onopen = () => {
      failures = 0;
      options.onOpen?.();
    };
    for (const type of options.eventTypes ?? EVENT_TYPES) {
      stream.addEventListener(type, (message: MessageEvent<string>) => {
        lastId = message.lastEventId;
        onEvent(type, JSON.parse(message.data), message.lastEventId);
      });
    }
    stream.onerror = () => {
      // EventSource retries by itself while it can; CLOSED means its ticket is spent (or the
      // stream was refused, e.g. 429 when all of the user's places are taken).
      if (stream.readyState === EventSource.CLOSED) again();
    };
  }

  void open();
  return { close: stop };
}

export const EVENT_TYPES = [
  "task.created",
  "task.updated",
  "task.completed",
  "task.reopened",
  "task.moved",
  "task.deleted",
  "list.created",
  "list.updated",
  "list.moved",
  "list.deleted",
] as const;

/** The ETag of an answer, for the next If-Match. */
export function etagOf(response: Response): string | undefined {
  return response.headers.get("ETag") ?? undefined;
}

function notSignedIn(): ErrorBody {
  return { code: "UNAUTHORIZED", message: "not signed in", details: [], request_id: "" } as unknown as ErrorBody;
}
