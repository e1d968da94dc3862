/**
 * Shapes of the messages on the socket, declared once: a declaration checks a value that came off the
 * socket, rebuilds it from its known fields only, and gives the message's TypeScript type (`Infer`).
 * A refused value gets the reason its declaration names, which never quotes what was sent.
 */

const refused = Symbol('refused');
type Refused = typeof refused;

/** Checks one value; `optional` fields may be absent (and are then left out of the rebuilt message). */
export interface Shape<T, Optional extends boolean = false> {
  readonly read: (value: unknown) => T | Refused;
  readonly optional: Optional;
  /** Read even when absent (a default or a coercion), so the field is always there. */
  readonly fills?: boolean;
}

export type Infer<S> = S extends Shape<infer T, boolean> ? T : never;

function shape<T>(read: (value: unknown) => T | Refused): Shape<T> {
  return { read, optional: false };
}

/** A value `test` accepts, as it is. */
export function is<T>(test: (value: unknown) => value is T): Shape<T>;
export function is<T>(test: (value: unknown) => boolean): Shape<T>;
export function is<T>(test: (value: unknown) => boolean): Shape<T> {
  return shape((v) => (test(v) ? (v as T) : refused));
}

export const string = is((v): v is string => typeof v === 'string');
export const boolean = is((v): v is boolean => typeof v === 'boolean');
export const number = is((v): v is number => typeof v === 'number');

/** One of the given strings. */
export function oneOf<const L extends string>(values: readonly L[]): Shape<L> {
  return shape((v) => (values.includes(v as L) ? (v as L) : refused));
}

/** A list whose every item fits `item` (at most `max` items). */
export function list<T>(item: Shape<T, boolean>, max = Number.POSITIVE_INFINITY): Shape<T[]> {
  return shape((v) => {
    if (!Array.isArray(v) || v.length > max) return refused;
    const out: T[] = [];
    for (const x of v) {
      const r = item.read(x);
      if (r === refused) return refused;
      out.push(r);
    }
    return out;
  });
}

/** May be absent; when present it must fit. */
export function optional<T>(inner: Shape<T, boolean>): Shape<T, true> {
  return { read: inner.read, optional: true };
}

/**
 * May be absent or of any form: read by `read` (which may coerce; undefined leaves the field out), never
 * refused. `fills`: read even when absent.
 */
export function lenient<T>(read: (value: unknown) => T | undefined, fills = false): Shape<T, true> {
  return { read: (v) => read(v) as T, optional: true, fills };
}

/** The protocol version this side speaks, whatever was sent (the envelope checks it where it matters). */
export function constant<const C>(value: C): Shape<C> {
  return shape(() => value);
}

type Fields = Record<string, readonly [Shape<unknown, boolean>, string] | Shape<unknown, boolean>>;
type ShapeOf<F> = F extends readonly [infer S, string] ? S : F;
type Required<F extends Fields> = {
  [K in keyof F as ShapeOf<F[K]> extends Shape<unknown, true> ? never : K]: Infer<ShapeOf<F[K]>>;
};
type Optionals<F extends Fields> = {
  [K in keyof F as ShapeOf<F[K]> extends Shape<unknown, true> ? K : never]?: Infer<ShapeOf<F[K]>>;
};
type Flat<T> = { [K in keyof T]: T[K] };
export type ObjectOf<F extends Fields> = Flat<Required<F> & Optionals<F>>;

/** What reading an object gives: the rebuilt object, or the reason it is refused. */
type Read<T> = T | string;

export interface ObjectShape<T> extends Shape<T> {
  /** The object, or the reason named for the first field that does not fit. */
  readonly check: (value: unknown) => Read<T>;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object shape from its check: nested in another shape, a reason counts as refused. */
function checked<T>(check: (value: unknown) => Read<T>): ObjectShape<T> {
  return {
    optional: false,
    check,
    read: (v) => {
      const r = check(v);
      return typeof r === 'string' ? refused : r;
    },
  };
}

/**
 * A JSON object with these fields, each `shape` or `[shape, reason]`, checked in order (a field without a
 * reason is refused as `whole`). `rule`s check the rebuilt object as a whole. Unknown fields are dropped.
 */
export function object<const F extends Fields>(
  fields: F,
  whole: string,
  ...rules: [(value: ObjectOf<F>) => boolean, string][]
): ObjectShape<ObjectOf<F>> {
  const entries = Object.entries(fields).map(([key, f]) => {
    const [s, reason] = Array.isArray(f)
      ? (f as [Shape<unknown, boolean>, string])
      : [f as Shape<unknown>, whole];
    return { key, s, reason };
  });
  const check = (value: unknown): Read<ObjectOf<F>> => {
    if (!isObject(value)) return whole;
    const out: Record<string, unknown> = {};
    for (const { key, s, reason } of entries) {
      const v = value[key];
      if (v === undefined && s.optional && !s.fills) continue;
      const r = s.read(v);
      if (r === refused) return reason;
      if (r !== undefined) out[key] = r;
    }
    for (const [rule, reason] of rules) if (!rule(out as ObjectOf<F>)) return reason;
    return out as ObjectOf<F>;
  };
  return checked(check);
}

/**
 * One of several objects told apart by the string in field `tag`; `unknown` gives the reason for a tag
 * none of them has, `notObject` for a value that is no object.
 */
export function variants<const V extends Record<string, ObjectShape<unknown>>>(
  tag: string,
  shapes: V,
  notObject: string,
  unknown: (tag: unknown) => string,
): ObjectShape<Infer<V[keyof V]>> {
  const check = (value: unknown): Read<Infer<V[keyof V]>> => {
    if (!isObject(value)) return notObject;
    const t = value[tag];
    const s = typeof t === 'string' && Object.hasOwn(shapes, t) ? shapes[t] : undefined;
    if (s === undefined) return unknown(t);
    return s.check(value) as Read<Infer<V[keyof V]>>;
  };
  return checked(check);
}

/** A declaration built on first use, so that a bundle that never uses it leaves it out. */
export function lazily<T>(declare: () => T): () => T {
  let made: T | undefined;
  return () => {
    made ??= declare();
    return made;
  };
}
