/**
 * The one rule for names that become URL path segments (model names, deployment names): checked
 * where configuration names them and where clients send them.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const UNSAFE_NAME = /[/\\?#%\u0000-\u001f\u007f]|\.\.|^\.+$/;

/**
 * A model or deployment name that can stand as one URL path segment without changing the path's
 * shape: `.` alone would be resolved away by any server on the way, as `..` would climb.
 */
export function isSafeModelName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !UNSAFE_NAME.test(name);
}
