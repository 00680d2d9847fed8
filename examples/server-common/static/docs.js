// Renders /openapi.json as a list of operations grouped by tag; no framework, no CDN.
(async function () {
  const main = document.getElementById('content');
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  };
  let doc;
  try {
    doc = await (await fetch('/openapi.json')).json();
  } catch (err) {
    main.textContent = 'Could not load /openapi.json: ' + err;
    return;
  }
  document.getElementById('title').textContent = doc.info.title;
  document.getElementById('version').textContent = 'v' + doc.info.version;
  document.title = doc.info.title;
  const resolve = (s) => {
    if (s && s.$ref) return doc.components.schemas[s.$ref.split('/').pop()] || s;
    return s;
  };
  const groups = {};
  for (const [path, ops] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      (groups[tag] = groups[tag] || []).push({ path, method, op });
    }
  }
  main.textContent = '';
  if (doc.info.description) main.append(el('p', {}, doc.info.description));
  for (const tag of Object.keys(groups).sort()) {
    main.append(el('h2', {}, tag));
    for (const { path, method, op } of groups[tag]) {
      const body = el('div', { class: 'body' });
      if (op.description || op.summary) body.append(el('p', {}, op.description || op.summary));
      if (op.security) body.append(el('p', {}, 'Auth: ' + op.security.map((s) => Object.keys(s).join('+') || 'none').join(' or ')));
      if (op.parameters && op.parameters.length) {
        const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'description')));
        for (const p of op.parameters) t.append(el('tr', {}, el('td', {}, p.name + (p.required ? ' *' : '')), el('td', {}, p.in), el('td', {}, p.description || '')));
        body.append(t);
      }
      if (op.requestBody) {
        for (const [ct, media] of Object.entries(op.requestBody.content || {})) {
          body.append(el('p', {}, 'Request body (' + ct + '):'));
          body.append(el('pre', {}, JSON.stringify(resolve(media.schema), null, 2)));
        }
      }
      for (const [code, r] of Object.entries(op.responses || {})) {
        body.append(el('p', {}, el('strong', {}, code), ' ' + (r.description || '')));
        const media = r.content && Object.values(r.content)[0];
        if (media && media.schema) body.append(el('pre', {}, JSON.stringify(resolve(media.schema), null, 2)));
      }
      main.append(el('details', {}, el('summary', {}, el('span', { class: 'm ' + method }, method.toUpperCase()), path, ' ', el('span', {}, op.summary ? '— ' + op.summary : '')), body));
    }
  }
})();
