// Which routes an alert takes, and which group it joins there: Alertmanager's Route.Match and
// getGroupLabels, as pure functions.
import type { Route } from './config.ts';
import type { Labels } from './labels.ts';
import { pickLabels } from './labels.ts';
import { matchesAll } from './matchers.ts';

/** Depth first; the first matching child wins unless it has `continue`; a node no child takes is the match. */
export function matchRoutes(route: Route, labels: Labels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const matches = matchRoutes(child, labels);
    all.push(...matches);
    if (matches.length > 0 && !child.continue) break;
  }
  return all.length > 0 ? all : [route];
}

export function groupLabels(route: Route, labels: Labels): Labels {
  return route.groupBy === 'all' ? { ...labels } : pickLabels(labels, route.groupBy);
}
