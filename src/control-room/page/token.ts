// The control room's token arrives in the URL's fragment (`#token=…`): browsers send fragments to no server and
// put them in no Referer. The page keeps it for the tab's life (sessionStorage) and takes it out of the address
// bar, so that it is not shown, bookmarked or shared by accident.

const KEY = 'trustusbank-control-room-token';

export function tokenFromFragment(hash: string): string | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && /^[A-Za-z0-9_-]{16,}$/.test(token) ? token : undefined;
}

export function takeToken(): string | undefined {
  const fromUrl = tokenFromFragment(location.hash);
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    return fromUrl;
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}
