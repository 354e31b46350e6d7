/**
 * Printed documents as PDF: the HTML a print template rendered (engine/templates/render.ts), laid out
 * with pdfkit in an embedded CJK font (subset to the characters used, so a one-page quote stays small
 * and its Chinese extracts back as text). The HTML is a small document vocabulary — h1–h3, p, div,
 * br, hr, strong/b, table/tr/th/td, ul/ol/li — parsed with htmlparser2; other tags fall back to their
 * text. The font is the first found of PDF_FONT (a .ttf/.otf, or .ttc with PDF_FONT_FAMILY) and the
 * Noto Sans CJK that Debian's fonts-noto-cjk installs (`npm start` installs it when missing and root).
 */
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { parseDocument } from 'htmlparser2';
import type { ChildNode, Element } from 'domhandler';
import { AppError } from '../errors.js';

const CANDIDATES: [string, string | undefined][] = [
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 'NotoSerifCJKsc-Regular'],
  ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', 'WenQuanYiMicroHei'],
];

/** The CJK font to embed, or undefined when the machine has none. */
export function cjkFont(env: Record<string, string | undefined> = process.env): { path: string; family?: string } | undefined {
  if (env.PDF_FONT) return existsSync(env.PDF_FONT) ? { path: env.PDF_FONT, family: env.PDF_FONT_FAMILY } : undefined;
  const found = CANDIDATES.find(([path]) => existsSync(path));
  return found && { path: found[0], family: found[1] };
}

const isElement = (n: ChildNode): n is Element => n.type === 'tag';
const textOf = (n: ChildNode): string =>
  n.type === 'text' ? (n as unknown as { data: string }).data : isElement(n) ? n.children.map(textOf).join('') : '';
const clean = (s: string) => s.replace(/\s+/g, ' ').trim();

export async function htmlToPdf(html: string, title: string): Promise<Buffer> {
  const font = cjkFont();
  if (!font)
    throw new AppError(503, 'pdf_font_missing', 'No CJK font for PDFs on this server: install fonts-noto-cjk or set PDF_FONT');
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: title }, compress: true });
  doc.registerFont('cjk', font.path, font.family);
  doc.font('cjk');
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 100;

  const table = (el: Element) => {
    const rows = el.children
      .flatMap((c) => (isElement(c) && ['thead', 'tbody', 'tfoot'].includes(c.name) ? c.children : [c]))
      .filter((c): c is Element => isElement(c) && c.name === 'tr');
    const columns = Math.max(
      1,
      ...rows.map((r) => r.children.filter((c) => isElement(c) && ['td', 'th'].includes(c.name)).length),
    );
    const w = width / columns;
    for (const row of rows) {
      const cells = row.children.filter((c): c is Element => isElement(c) && ['td', 'th'].includes(c.name));
      const y = doc.y;
      let bottom = y;
      if (y > doc.page.height - 90) doc.addPage();
      const top = doc.y;
      cells.forEach((cell, i) => {
        doc.fontSize(cell.name === 'th' ? 10.5 : 10).text(clean(textOf(cell)), 50 + i * w + 2, top + 3, { width: w - 4 });
        bottom = Math.max(bottom, doc.y);
      });
      doc
        .moveTo(50, bottom + 3)
        .lineTo(50 + width, bottom + 3)
        .lineWidth(0.5)
        .strokeColor('#bbbbbb')
        .stroke();
      doc.x = 50;
      doc.y = bottom + 5;
    }
    doc.moveDown(0.5);
  };

  const block = (node: ChildNode) => {
    if (node.type === 'text') {
      const text = clean(textOf(node));
      if (text) doc.fontSize(11).text(text, { width });
      return;
    }
    if (!isElement(node)) return;
    const sizes: Record<string, number> = { h1: 18, h2: 14, h3: 12 };
    switch (node.name) {
      case 'h1':
      case 'h2':
      case 'h3':
        doc
          .moveDown(0.3)
          .fontSize(sizes[node.name])
          .text(clean(textOf(node)), { width })
          .moveDown(0.3);
        return;
      case 'p':
      case 'li':
        doc
          .fontSize(11)
          .text((node.name === 'li' ? '• ' : '') + clean(textOf(node)), { width })
          .moveDown(0.3);
        return;
      case 'br':
        doc.moveDown(0.5);
        return;
      case 'hr':
        doc
          .moveTo(50, doc.y + 4)
          .lineTo(50 + width, doc.y + 4)
          .lineWidth(0.8)
          .strokeColor('#888888')
          .stroke()
          .moveDown(0.8);
        return;
      case 'table':
        table(node);
        return;
      case 'style':
      case 'script':
      case 'head':
        return;
      default:
        if (node.children.some(isElement)) node.children.forEach(block);
        else if (clean(textOf(node)))
          doc
            .fontSize(11)
            .text(clean(textOf(node)), { width })
            .moveDown(0.3);
    }
  };
  parseDocument(html).children.forEach(block);
  doc.end();
  return done;
}
