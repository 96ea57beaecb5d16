// Anonymous callers. A request reaches the gateway either over HBONE, where the mesh proved the caller's
// SPIFFE identity, or on the host listener (127.0.0.1:18008), where nobody proved anything: any process on
// the machine can connect there. A policy that forgets to name its callers (`mcp.tool.name == "get_profile"`
// alone) would serve such a process, so the gateway refuses every MCP message and A2A call from a caller that
// has neither a mesh identity nor a JWT a jwtAuthentication policy validated, before any policy is read and
// before anything reaches an upstream. Lists are refused too: tool descriptions are the injection channel and
// the inventory, and a list a caller cannot call from is no use to it. A caller with a validated JWT is
// authenticated and goes on to the policies, which must still allow it (on `jwt.*`): that is the one way to
// serve the host listener.

/** The access log's and the error's `reason` for the refusal. */
export const UNAUTHENTICATED = 'Unauthenticated';

/** The caller as the gateway knows it: proven by the mesh, by a token, or by nothing. */
export function isAnonymous(caller: { spiffeId: string } | undefined, jwtClaims: Record<string, unknown> | undefined): boolean {
  return caller === undefined && jwtClaims === undefined;
}

/** Why `what` (an MCP or A2A method) is refused, and what would allow it: the one message every refusal carries. */
export function anonymousRefusal(what: string): string {
  return (
    `${what} refused: the caller is anonymous (the host listener has no mesh identity, and the request carried no ` +
    'token a jwtAuthentication policy validated). Call from a pod in the mesh (trustusbank exec -n <namespace> ' +
    '<workload> -- trustusbank curl …), or attach a traffic.jwtAuthentication policy to the Gateway or the route, ' +
    'send its bearer token, and allow its claims (jwt.*) in an authorization policy'
  );
}
