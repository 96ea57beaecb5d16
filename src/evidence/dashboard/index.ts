// The DORA evidence dashboard: the only door in. See README.md beside it.
export { DASHBOARD_CSP, DASHBOARD_FILE, DASHBOARD_PORT, PROXY_PREFIX, createDashboardHandler, startDashboard, type RunningDashboard } from './server.ts';
export { denyOf, readDenyLines, type DenyLine } from './deny-log.ts';
export { parseDashboard, isDenyLogPanel, type Dashboard, type Panel, type Target } from './model.ts';
export { interpolate, queryWindow } from './time.ts';
