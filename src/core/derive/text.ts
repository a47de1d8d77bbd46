/** A value as a person would read it: trimmed text, or null when there is nothing to read. */
export const readableText = (value: unknown): string | null => {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? null : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
};

/** Joins the readable parts with a separator; null when none is readable. */
export const joinReadable = (parts: readonly unknown[], separator: string): string | null => {
  const readable = parts.map(readableText).filter((part): part is string => part !== null);
  return readable.length === 0 ? null : readable.join(separator);
};
