// flame_check.js SVG FRAME: runs a flame graph's embedded script against a
// minimal DOM made from the SVG's frames (node has no DOM of its own), then
// hovers and clicks FRAME and checks what a user would see: the details
// line names it, it fills the width after the click with its full label,
// its callers stay (faded), unrelated frames hide, and "Reset zoom" undoes
// it all.  Prints "ok ..." or the first thing that is wrong (exit 1).
'use strict';
const fs = require('fs');
const vm = require('vm');

function fail(msg) { console.log(msg); process.exit(1); }

const svg = fs.readFileSync(process.argv[2], 'utf8');
const target = process.argv[3];
const cdata = svg.match(/<!\[CDATA\[([\s\S]*?)\]\]>/);
if (!cdata) fail('no script');

function el(name, attrs, text) {
  return {
    nodeName: name, attrs: Object.assign({}, attrs), children: [], parentNode: null,
    textContent: text || '', listeners: {},
    getAttribute(k) { return this.attrs[k] === undefined ? null : this.attrs[k]; },
    setAttribute(k, v) { this.attrs[k] = String(v); },
    removeAttribute(k) { delete this.attrs[k]; },
    addEventListener(t, f) { this.listeners[t] = f; },
    getElementsByTagName(n) {
      const out = [];
      (function walk(e) { for (const c of e.children) { if (c.nodeName === n) out.push(c); walk(c); } })(this);
      return out;
    },
    append(c) { c.parentNode = this; this.children.push(c); return c; },
  };
}

const unesc = s => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&apos;/g, "'").replace(/&amp;/g, '&');
const attr = name => { const m = svg.match(new RegExp(' ' + name + '="([\\d.]+)"')); if (!m) fail('no ' + name); return m[1]; };

const root = el('svg', { width: attr('width'), 'data-pad': attr('data-pad'),
  'data-eps': attr('data-eps'), 'data-charw': attr('data-charw') });
const frames = root.append(el('g', { id: 'frames' }));
const details = root.append(el('text', { id: 'details' }));
details.firstChild = { nodeValue: ' ' };
const unzoom = root.append(el('text', { id: 'unzoom', class: 'hide' }));
const re = /<g><title>([\s\S]*?)<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"[^>]*\/><text[^>]*>([\s\S]*?)<\/text><\/g>/g;
let m;
while ((m = re.exec(svg))) {
  const g = frames.append(el('g', {}));
  g.append(el('title', {}, unesc(m[1])));
  g.append(el('rect', { x: m[2], y: m[3], width: m[4] }));
  g.append(el('text', { x: String(+m[2] + 3) }, unesc(m[5])));
}
const ids = { frames, details, unzoom };
const ctx = vm.createContext({
  document: { documentElement: root, getElementById: id => ids[id], addEventListener() {} },
});
vm.runInContext(cdata[1] + '\ninit({});', ctx);

const gs = frames.children;
const name = g => g.children[0].textContent.replace(/ \([^(]*\)$/, '');
const z = gs.find(g => name(g) === target);
if (!z) fail('no frame ' + target);

frames.listeners.mouseover({ target: z.children[1] });
if (!details.firstChild.nodeValue.startsWith(target + ' ('))
  fail('hover shows: ' + details.firstChild.nodeValue);

frames.listeners.click({ target: z.children[1] });
const W = +root.attrs.width, PAD = +root.attrs['data-pad'];
const zr = z.children[1];
if (Math.abs(+zr.attrs.x - PAD) > 0.01 || Math.abs(+zr.attrs.width - (W - 2 * PAD)) > 0.01)
  fail('zoomed frame not full width: x=' + zr.attrs.x + ' w=' + zr.attrs.width);
if (z.children[2].textContent !== target) fail('zoomed label: ' + z.children[2].textContent);
let hidden = 0, parents = 0;
for (const g of gs) {
  if (g.attrs.class === 'hide') hidden++;
  if (g.attrs.class === 'parent') parents++;
}
if (name(gs[0]) !== 'all' || gs[0].attrs.class !== 'parent') fail('root not kept as a caller');
if (unzoom.attrs.class === 'hide') fail('"Reset zoom" not shown');
unzoom.listeners.click();
for (const g of gs) if (g.attrs.class) fail('class "' + g.attrs.class + '" left after reset');
if (Math.abs(+zr.attrs.width - z.ow) > 0.01) fail('width not restored');
console.log('ok frames=' + gs.length + ' hidden=' + hidden + ' parents=' + parents);
