import { StrataError } from '@strata/policy';

/**
 * A numeric option that must be positive (a whole number where `integer`); undefined stays
 * undefined (the caller's default applies). Anything else is an `E_CONFIG_INVALID` StrataError
 * naming the option, thrown when the instance is created rather than misbehaving later.
 */
export function positiveOption(name: string, value: unknown, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const valid =
    typeof value === 'number' && value > 0 && (integer ? Number.isSafeInteger(value) : !Number.isNaN(value));
  if (!valid) {
    throw new StrataError(
      'E_CONFIG_INVALID',
      `${name} must be a positive ${integer ? 'whole number' : 'number'}, got ${String(value)}`,
    );
  }
  return value;
}
