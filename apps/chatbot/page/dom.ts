// Building DOM nodes without HTML strings: every piece of text becomes a text node, so nothing a model or a
// tool returns can become markup. The page's Content-Security-Policy also demands Trusted Types, so an
// innerHTML assignment anywhere would throw rather than parse.

type Child = Node | string | number | false | null | undefined;
type Attributes = Record<string, string | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    // Event handlers are attached with addEventListener, never as attributes.
    if (/^on/i.test(name) || name === 'style') throw new Error(`attribute ${name} is not set from data`);
    element.setAttribute(name, value === true ? '' : value);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Pretty JSON for a <pre>, bounded so that a huge tool result cannot freeze the page. */
export function json(value: unknown, limit = 20_000): string {
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > limit ? `${text.slice(0, limit)}\n… (${text.length - limit} more characters)` : text;
}
