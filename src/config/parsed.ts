/** What a setting's parser returns: the value, or what is wrong (without the setting's name). */
export type Parsed<T> = { readonly value: T } | { readonly problems: readonly string[] };
