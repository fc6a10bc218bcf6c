/** Hash of binding.gyp and native/*.cc / *.h. */
export function nativeSourceHash(): string;
