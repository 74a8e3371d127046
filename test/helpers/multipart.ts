/** A part of a hand-built multipart body; with a filename it is a file. */
export interface FormPart {
  name: string;
  value: string | Buffer;
  filename?: string;
}

/** A multipart/form-data body written byte by byte, so tests control part order exactly. */
export function multipartBody(
  parts: readonly FormPart[],
  boundary = "----test-boundary",
): { body: Buffer; contentType: string; boundary: string } {
  const out: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.filename
      ? `form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: audio/wav`
      : `form-data; name="${p.name}"`;
    out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n\r\n`));
    out.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value));
    out.push(Buffer.from("\r\n"));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(out),
    contentType: `multipart/form-data; boundary=${boundary}`,
    boundary,
  };
}
