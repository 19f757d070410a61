const STORAGE = "padt.apiKey";

/**
 * The API key from ?key= (remembered in localStorage, then taken out of the address bar so it
 * is not left in history or screenshots), else the one saved in localStorage.
 */
export function initialKey(): string {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("key");
  if (fromUrl) {
    rememberKey(fromUrl);
    url.searchParams.delete("key");
    history.replaceState(history.state, "", url);
    return fromUrl;
  }
  return localStorage.getItem(STORAGE) ?? "";
}

export function rememberKey(key: string): void {
  if (key) localStorage.setItem(STORAGE, key);
  else localStorage.removeItem(STORAGE);
}

/** Debug controls (drop the WebSocket) only for developers: ?dev=1 once, or localStorage padt.developer=1. */
export function isDeveloper(): boolean {
  const flag = new URLSearchParams(location.search).get("dev");
  if (flag !== null) localStorage.setItem("padt.developer", flag === "0" ? "0" : "1");
  return localStorage.getItem("padt.developer") === "1";
}
