/**
 * The UTF-8 size of a string without encoding it (Buffer.byteLength is Node's; this runs
 * everywhere and allocates nothing). A lone surrogate counts 3 bytes, as its replacement
 * character U+FFFD has when encoded.
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair: one code point above U+FFFF
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
