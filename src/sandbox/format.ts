/** Partial masking for the demo summary: enough to recognise a value, not to use it. */

/** `olivia.nguyen@example.com` -> `o***@example.com` */
export function maskEmail(value: string): string {
  value = value.trim();
  const at = value.indexOf('@');
  if (at < 1) return '***';
  return `${value[0]}***${value.slice(at)}`;
}

/** `+61491570156` -> `+6149****156`: the first four and the last three digits stay. */
export function maskPhone(value: string): string {
  let seen = 0;
  const digits = value.replace(/\D/g, '').length;
  return value.replace(/\d/g, (d) => {
    seen++;
    return seen <= 4 || seen > digits - 3 ? d : '*';
  });
}
