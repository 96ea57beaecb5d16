// The page's shell and stylesheet: no inline script or style (the CSP forbids both); the script renders
// everything else from the dashboard JSON.
import { escapeHtml } from '../../../core/html.ts';

export function indexHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<header class="toolbar">
<h1 id="title">${escapeHtml(title)}</h1>
<div class="controls">
<label for="range">Time range</label> <select id="range"></select>
<label for="refresh">Auto-refresh</label> <select id="refresh"></select>
<button type="button" id="refresh-now">Refresh</button>
<a href="/incidents">Incidents</a>
<span id="updated" aria-live="polite"></span>
</div>
</header>
<main id="grid" aria-busy="true"></main>
</body>
</html>
`;
}

export const APP_CSS = `*{box-sizing:border-box}
body{margin:0;font:14px system-ui,sans-serif;background:#111217;color:#d8d9da}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding:.6rem 1rem;background:#181b1f;border-bottom:1px solid #2c3235}
.toolbar h1{font-size:1.15rem;margin:0}
.controls{display:flex;align-items:center;gap:.4rem;flex-wrap:wrap}
select,button{font:inherit;background:#22252b;color:#d8d9da;border:1px solid #464c54;border-radius:3px;padding:.2rem .5rem}
button:focus,select:focus,a:focus{outline:2px solid #6e9fff;outline-offset:1px}
#updated{color:#9fa7b3;font-size:.85rem}
main{display:grid;grid-template-columns:repeat(24,minmax(0,1fr));grid-auto-rows:34px;gap:8px;padding:8px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;display:flex;flex-direction:column;min-width:0;overflow:hidden}
.panel h2{font-size:.9rem;font-weight:600;margin:0;padding:.4rem .6rem;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.panel .body{flex:1;min-height:0;overflow:auto;padding:0 .6rem .5rem}
.stat .body{display:flex;align-items:center;justify-content:center;font-size:2rem;font-weight:600;border-radius:3px;margin:0 .5rem .5rem;color:#fff}
.error{color:#ff7383;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #2c3235;vertical-align:top;overflow-wrap:anywhere}
th{color:#9fa7b3;font-weight:600}
code,pre,.log{font:12px ui-monospace,monospace}
pre{background:#22252b;padding:.5rem;border-radius:3px;white-space:pre-wrap;overflow-wrap:anywhere}
.log{border-bottom:1px solid #2c3235;padding:.2rem 0;overflow-wrap:anywhere}
.log .layer{display:inline-block;min-width:5.5rem;color:#ffb357}
.empty{color:#9fa7b3}
a{color:#6e9fff}
svg{display:block;width:100%;height:100%}
.legend{display:flex;flex-wrap:wrap;gap:.2rem .8rem;font-size:.8rem;padding-top:.2rem}
.legend span::before{content:"";display:inline-block;width:.8rem;height:.25rem;margin-right:.3rem;vertical-align:middle;background:var(--c)}
.chart{height:calc(100% - 2.2rem);min-height:80px}
`;
