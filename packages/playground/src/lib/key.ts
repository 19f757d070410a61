const STORAGE = "padt.apiKey";

/** The API key from ?key= (then remembered), else the one saved in localStorage. */
export function initialKey(): string {
  const fromUrl = new URLSearchParams(location.search).get("key");
  if (fromUrl) return fromUrl;
  return localStorage.getItem(STORAGE) ?? "";
}

export function rememberKey(key: string): void {
  if (key) localStorage.setItem(STORAGE, key);
  else localStorage.removeItem(STORAGE);
}
