/**
 * Content types (docs: "Content types" of the Python client): `pickle`, `cloudpickle`, `json`,
 * `cbor`, `arrow`, `text`, `text-<encoding>`, `mime/<type>`, `user/<type>`, `protobuf[/…]`.
 */

/**
 * True if data of type `actual` may be used where `declared` is expected: no declaration, the
 * same type, or a more specific member of the declared family (`text` ⊇ `text-latin2`,
 * `protobuf` ⊇ `protobuf/msg`, `pickle` ⊇ `cloudpickle`).
 */
export function isContentSubtype(
  actual: string | undefined,
  declared: string | undefined,
): boolean {
  if (!declared) return true;
  if (!actual) return false;
  if (actual === declared) return true;
  if (declared === "pickle" && actual === "cloudpickle") return true;
  return actual.length > declared.length && actual.startsWith(declared) &&
    (actual[declared.length] === "-" || actual[declared.length] === "/");
}
