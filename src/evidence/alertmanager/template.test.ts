// The Go-template subset: what renders as Go renders it, and what is refused at parse time with a name.
import { describe, expect, it } from 'vitest';
import { TemplateError } from './errors.ts';
import { GoTime, KV, formatGoTime, parseTemplate } from './template.ts';

const alerts = Object.assign([{ Status: 'firing', Labels: new KV({ pod: 'p1' }) }, { Status: 'resolved', Labels: new KV({ pod: 'p2' }) }], {
  Firing: () => [{ Status: 'firing' }],
  Resolved: () => [{ Status: 'resolved' }],
});
const data = { Status: 'firing', Alerts: alerts, GroupLabels: new KV({ alertname: 'X', ns: 'a' }), CommonLabels: new KV({ alertname: 'X', ns: 'a', sev: 'critical' }), StartsAt: new GoTime(Date.parse('2026-12-02T13:05:09.120Z')) };
const render = (source: string, mode: 'text' | 'html' = 'text'): string => parseTemplate(source, mode).render(data);

describe('renders like text/template', () => {
  it.each([
    ['[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}]', '[FIRING:1]'],
    ['{{ range .Alerts }}{{ .Labels.pod }},{{ end }}', 'p1,p2,'],
    ['{{ .GroupLabels.missing }}|{{ with .GroupLabels.missing }}yes{{ else }}no{{ end }}', '<no value>|no'],
    ['{{ .GroupLabels.SortedPairs.Values | join " " }}', 'X a'],
    ['{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join "," }}{{ end }}', 'critical'],
    ['{{ if gt (len .CommonLabels) (len .GroupLabels) }}more{{ end }}', 'more'],
    ['a  {{- " b " -}}  c', 'a b c'],
    ['{{/* a comment */}}x', 'x'],
    ['{{ if eq .Status "resolved" }}r{{ else if eq .Status "firing" }}f{{ else }}?{{ end }}', 'f'],
    ['{{ range .Alerts.Resolved }}{{ .Status }}{{ else }}none{{ end }}', 'resolved'],
    ['{{ .StartsAt.Format "2006-01-02T15:04:05Z07:00" }}', '2026-12-02T13:05:09Z'],
    ['{{ .StartsAt }}', '2026-12-02 13:05:09.12 +0000 UTC'],
    ['{{ printf "%s=%d" "n" 3 }} {{ title "hello world" }} {{ "A" | toLower }}', 'n=3 Hello World a'],
    ['{{ $.Status }}{{ range .Alerts }}{{ $.Status }}{{ end }}', 'firingfiringfiring'],
  ])('%s', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  it('html mode escapes every output except safeHtml', () => {
    const hostile = { ...data, GroupLabels: new KV({ alertname: '<img src=x onerror=alert(1)>' }) };
    expect(parseTemplate('<b>{{ .GroupLabels.alertname }}</b>{{ "<i>" | safeHtml }}', 'html').render(hostile)).toBe('<b>&lt;img src=x onerror=alert(1)&gt;</b><i>');
  });

  it('never evaluates template syntax that arrives inside a label value', () => {
    const injected = { ...data, GroupLabels: new KV({ alertname: '{{ .Status }}{{ template "x" }}' }) };
    expect(parseTemplate('{{ .GroupLabels.alertname }}').render(injected)).toBe('{{ .Status }}{{ template "x" }}');
  });

  it('formats Go layouts', () => {
    const t = Date.parse('2026-03-04T05:06:07.089Z');
    expect(formatGoTime(t, 'Mon Jan _2 15:04:05.000 MST 2006')).toBe('Wed Mar  4 05:06:07.089 UTC 2026');
    expect(formatGoTime(t, '3:04PM')).toBe('5:06AM');
  });
});

describe('refuses what it does not implement, by name', () => {
  it.each([
    ['{{ template "email.default.html" . }}', '{{ template }} / {{ define }}'],
    ['{{ define "x" }}y{{ end }}', 'define'],
    ['{{ $x := .Status }}', 'variables'],
    ['{{ range $i, $a := .Alerts }}{{ end }}', 'variables'],
    ['{{ humanize 3 }}', 'function "humanize" is not supported'],
    ['{{ if .Status }}x', 'has no {{ end }}'],
    ['{{ end }}', 'unexpected {{ end }}'],
    ['{{ .Status', 'unclosed action'],
  ])('%s', (source, problem) => {
    const attempt = (): unknown => parseTemplate(source);
    expect(attempt).toThrow(TemplateError);
    expect(attempt).toThrow(problem.startsWith('{{ template') ? /template/ : problem);
  });

  it('a field that does not exist on a struct is an execution error, not a silent blank', () => {
    expect(() => render('{{ .Nope }}')).toThrow(/can't evaluate field Nope/);
  });
});
