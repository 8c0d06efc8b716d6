/** The console page's stylesheet, added at start (the page has no other assets). */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:13px system-ui,sans-serif;color:#0f172a;background:#f1f5f9}
header{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#0f172a;color:#f8fafc}
header h1{font-size:15px;margin:0}
#status{font-size:12px;opacity:.8}
#login{padding:24px;max-width:560px}
#login input{width:100%;padding:6px;font:12px ui-monospace,monospace}
#refusal{color:#b91c1c;margin:8px 0}
main{display:grid;grid-template-columns:minmax(360px,1fr) minmax(420px,1.3fr);gap:12px;padding:12px}
section{background:#fff;border:1px solid #cbd5e1;border-radius:6px;padding:8px 12px;min-width:0}
h2{font-size:14px;margin:4px 0 8px}
h3{font-size:13px;margin:10px 0 4px}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #e2e8f0;vertical-align:top}
td code{font-size:11px;overflow-wrap:anywhere}
dl.attributes{margin:0;display:grid;grid-template-columns:max-content minmax(0,1fr);gap:1px 8px;font-size:12px}
dl.attributes div{display:contents}
dl.attributes dt{color:#475569;font-weight:600}
dl.attributes dd{margin:0;overflow-wrap:break-word;word-break:normal;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:11px}
tr[data-participant-id]{cursor:pointer}
tr[data-participant-id]:hover{background:#f1f5f9}
tr.selected{background:#fef3c7 !important}
.rates{color:#475569;font-size:12px;font-weight:normal}
.diagram{overflow:auto;max-height:520px;border:1px solid #e2e8f0;border-radius:4px;cursor:grab;touch-action:none}
.diagram.panning{cursor:grabbing}
.diagram svg{display:block}
.diagram-toolbar{display:flex;gap:4px;align-items:center;margin:4px 0;font-size:12px}
.diagram-toolbar button{font:12px system-ui,sans-serif;padding:1px 8px;border:1px solid #cbd5e1;border-radius:4px;background:#f8fafc;cursor:pointer}
.zoom-level{color:#475569;min-width:3em}
.actor h4{font-size:13px;margin:2px 0 4px;font-weight:normal}
.actor h4 .machine{font-weight:700}
.actor h4 .title{font-weight:600}
.actor h4 .label{color:#64748b;font-size:11px}
.actor-attributes{margin:2px 0 4px}
.log{font:11px ui-monospace,monospace;max-height:220px;overflow:auto;background:#0f172a;color:#e2e8f0;padding:6px;border-radius:4px;margin-top:6px}
.log div{white-space:nowrap}
#clients{grid-column:1/-1}
.actors{display:flex;flex-wrap:wrap;gap:10px}
.actor{border:1px solid #e2e8f0;border-radius:4px;padding:6px;max-width:100%;min-width:0}
.actor{flex:1 1 420px}
.actor[data-client-actor="connection"],.actor[data-client-actor="messaging"]{flex-basis:100%}
.muted{color:#64748b}
`;
