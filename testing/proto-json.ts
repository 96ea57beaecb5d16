// Checks a JSON value against a message of a .proto file, as a strict ProtoJSON parser reads it (the mapping in
// https://protobuf.dev/programming-guides/json/): a field is known by its JSON name (lowerCamelCase) or its proto
// name, an unknown field is an error (the parsers' default), every value has its field's JSON type, at most one
// member of a oneof is set, and a field marked `(google.api.field_behavior) = REQUIRED` is present.
//
// Why a parser of the .proto rather than a JSON Schema: A2A 1.0 publishes its schema as a2a.proto; the JSON
// Schema the project builds from it is not committed to its repository, and the validator in node_modules
// (ajv 6) reads only draft-07. Reading the vendored .proto keeps the check derived from the spec itself, field
// by field, with nothing transcribed by hand. It reads the subset of proto3 that spec files use: messages,
// enums, oneofs, maps, `optional`/`repeated`, field options, and skips services, options and reserved ranges.

interface ProtoField {
  name: string;
  jsonName: string;
  type: string;
  repeated: boolean;
  map?: { key: string; value: string };
  oneof?: string;
  required: boolean;
}

interface ProtoMessage {
  kind: 'message';
  fullName: string;
  fields: ProtoField[];
}

interface ProtoEnum {
  kind: 'enum';
  fullName: string;
  values: Map<string, number>;
}

export interface ProtoSchema {
  package: string;
  types: Map<string, ProtoMessage | ProtoEnum>;
}

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_][\w.]*|-?\d[\w.]*|\.[A-Za-z_][\w.]*|[{}()[\]<>=;,:]/y;
  let at = 0;
  while (at < source.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(source);
    if (!match) throw new Error(`proto: cannot read ${JSON.stringify(source.slice(at, at + 30))}`);
    at = pattern.lastIndex;
    const token = match[0];
    if (!/^\s/.test(token) && !token.startsWith('//') && !token.startsWith('/*')) tokens.push(token);
  }
  return tokens;
}

/** lowerCamelCase as protoc derives json_name: drop each underscore and capitalise the letter after it. */
function jsonNameOf(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export function parseProto(source: string): ProtoSchema {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const token = tokens[i++];
    if (token === undefined) throw new Error('proto: unexpected end of file');
    return token;
  };
  const expect = (wanted: string) => {
    const token = next();
    if (token !== wanted) throw new Error(`proto: expected ${wanted}, got ${token} (token ${i})`);
  };
  const skipStatement = () => {
    let depth = 0;
    for (;;) {
      const token = next();
      if (token === '{') depth++;
      else if (token === '}') {
        depth--;
        if (depth === 0) return;
      } else if (token === ';' && depth === 0) return;
    }
  };
  const schema: ProtoSchema = { package: '', types: new Map() };

  const fieldOptions = (): { required: boolean } => {
    let required = false;
    if (peek() !== '[') return { required };
    expect('[');
    let depth = 1;
    const seen: string[] = [];
    while (depth > 0) {
      const token = next();
      if (token === '[') depth++;
      else if (token === ']') depth--;
      else seen.push(token);
    }
    for (let k = 0; k + 4 < seen.length; k++) {
      if (seen[k] === '(' && seen[k + 1] === 'google.api.field_behavior' && seen[k + 2] === ')' && seen[k + 3] === '=' && seen[k + 4] === 'REQUIRED') required = true;
    }
    return { required };
  };

  const parseField = (first: string, oneof?: string): ProtoField => {
    let label = '';
    let type = first;
    if (first === 'repeated' || first === 'optional') {
      label = first;
      type = next();
    }
    let map: ProtoField['map'];
    if (type === 'map') {
      expect('<');
      const key = next();
      expect(',');
      const value = next();
      expect('>');
      map = { key, value };
    }
    const name = next();
    expect('=');
    next();
    const { required } = fieldOptions();
    expect(';');
    return { name, jsonName: jsonNameOf(name), type: map ? 'map' : type, repeated: label === 'repeated', ...(map ? { map } : {}), ...(oneof ? { oneof } : {}), required };
  };

  const parseEnum = (scope: string) => {
    const fullName = `${scope}.${next()}`;
    expect('{');
    const values = new Map<string, number>();
    while (peek() !== '}') {
      const token = next();
      if (token === 'option' || token === 'reserved') {
        skipStatement();
        continue;
      }
      expect('=');
      values.set(token, Number(next()));
      if (peek() === '[') fieldOptions();
      expect(';');
    }
    expect('}');
    schema.types.set(fullName, { kind: 'enum', fullName, values });
  };

  const parseMessage = (scope: string) => {
    const fullName = `${scope}.${next()}`;
    const fields: ProtoField[] = [];
    expect('{');
    while (peek() !== '}') {
      const token = next();
      if (token === 'message') parseMessage(fullName);
      else if (token === 'enum') parseEnum(fullName);
      else if (token === 'option' || token === 'reserved' || token === 'extensions') skipStatement();
      else if (token === ';') continue;
      else if (token === 'oneof') {
        const group = next();
        expect('{');
        while (peek() !== '}') {
          const first = next();
          if (first === 'option') skipStatement();
          else fields.push(parseField(first, group));
        }
        expect('}');
      } else fields.push(parseField(token));
    }
    expect('}');
    schema.types.set(fullName, { kind: 'message', fullName, fields });
  };

  while (i < tokens.length) {
    const token = next();
    if (token === 'package') {
      schema.package = next();
      expect(';');
    } else if (token === 'message') parseMessage(schema.package);
    else if (token === 'enum') parseEnum(schema.package);
    else skipStatement();
  }
  return schema;
}

const INTEGER_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`);

/** Resolve a type name as protoc does: the innermost scope outwards, then the package. */
function resolveType(schema: ProtoSchema, name: string, scope: string): ProtoMessage | ProtoEnum | string {
  if (name.startsWith('.')) return schema.types.get(name.slice(1)) ?? name.slice(1);
  const parts = scope.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const candidate = [...parts.slice(0, n), name].filter(Boolean).join('.');
    const found = schema.types.get(candidate);
    if (found) return found;
  }
  return name;
}

/**
 * Every way `value` is not a valid ProtoJSON encoding of message `messageName` (`lf.a2a.v1.AgentCard`): one
 * line per problem, with the JSON path. Empty when it is valid.
 */
export function protoJsonProblems(schema: ProtoSchema, messageName: string, value: unknown): string[] {
  const problems: string[] = [];
  const root = schema.types.get(messageName);
  if (!root || root.kind !== 'message') throw new Error(`no message ${messageName} in the proto`);

  const checkValue = (type: string, scope: string, v: unknown, path: string): void => {
    if (type === 'string') {
      if (typeof v !== 'string') problems.push(`${path}: expected a string, got ${describe(v)}`);
    } else if (type === 'bool') {
      if (typeof v !== 'boolean') problems.push(`${path}: expected true or false, got ${describe(v)}`);
    } else if (INTEGER_TYPES.has(type)) {
      const ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
      if (!ok) problems.push(`${path}: expected an integer (${type}), got ${describe(v)}`);
    } else if (type === 'double' || type === 'float') {
      if (typeof v !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(v as string)) problems.push(`${path}: expected a number, got ${describe(v)}`);
    } else if (type === 'bytes') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) problems.push(`${path}: expected base64 bytes, got ${describe(v)}`);
    } else if (type === 'google.protobuf.Struct') {
      if (!isObject(v)) problems.push(`${path}: expected a JSON object (google.protobuf.Struct), got ${describe(v)}`);
    } else if (type === 'google.protobuf.Value') {
      // Any JSON value.
    } else if (type === 'google.protobuf.Timestamp') {
      if (typeof v !== 'string' || !RFC3339.test(v)) problems.push(`${path}: expected an RFC 3339 timestamp, got ${describe(v)}`);
    } else if (type === 'google.protobuf.Empty') {
      if (!isObject(v) || Object.keys(v).length > 0) problems.push(`${path}: expected {} (google.protobuf.Empty), got ${describe(v)}`);
    } else {
      const resolved = resolveType(schema, type, scope);
      if (typeof resolved === 'string') throw new Error(`${path}: the proto names type ${resolved}, which this checker does not know`);
      if (resolved.kind === 'enum') {
        const ok = (typeof v === 'string' && resolved.values.has(v)) || (typeof v === 'number' && Number.isInteger(v));
        if (!ok) problems.push(`${path}: expected a value of ${resolved.fullName} (${[...resolved.values.keys()].join(', ')}), got ${describe(v)}`);
      } else checkMessage(resolved, v, path);
    }
  };

  const checkMessage = (message: ProtoMessage, v: unknown, path: string): void => {
    if (!isObject(v)) {
      problems.push(`${path}: expected an object (${message.fullName}), got ${describe(v)}`);
      return;
    }
    const scope = message.fullName;
    const oneofs = new Map<string, string>();
    for (const [key, fieldValue] of Object.entries(v)) {
      const where = path === '' ? key : `${path}.${key}`;
      const field = message.fields.find((f) => f.jsonName === key || f.name === key);
      if (!field) {
        problems.push(`${where}: not a field of ${message.fullName} (its fields: ${message.fields.map((f) => f.jsonName).join(', ')})`);
        continue;
      }
      // null is the default value of any field but google.protobuf.Value, whose null is a value.
      if (fieldValue === null && field.type !== 'google.protobuf.Value') continue;
      if (field.oneof) {
        const other = oneofs.get(field.oneof);
        if (other) problems.push(`${where}: oneof ${field.oneof} already has ${other} set`);
        else oneofs.set(field.oneof, key);
      }
      if (field.map) {
        if (!isObject(fieldValue)) problems.push(`${where}: expected an object (map<${field.map.key}, ${field.map.value}>), got ${describe(fieldValue)}`);
        else for (const [k, item] of Object.entries(fieldValue)) checkValue(field.map.value, scope, item, `${where}[${JSON.stringify(k)}]`);
      } else if (field.repeated) {
        if (!Array.isArray(fieldValue)) problems.push(`${where}: expected an array, got ${describe(fieldValue)}`);
        else fieldValue.forEach((item, n) => checkValue(field.type, scope, item, `${where}[${n}]`));
      } else checkValue(field.type, scope, fieldValue, where);
    }
    for (const field of message.fields) {
      if (!field.required) continue;
      const present = [field.jsonName, field.name].some((key) => key in v && v[key] !== null);
      if (!present) problems.push(`${path === '' ? '' : `${path}.`}${field.jsonName}: is required by ${message.fullName} (field_behavior REQUIRED)`);
    }
  };

  checkMessage(root, value, '');
  return problems;
}
