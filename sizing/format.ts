/** Number formatting shared by capacity notes, findings and reports (fixed, locale-independent). Pure. */

/** `n` with `digits` decimals and thousands separators: num(18000) = "18,000", num(292.4375, 1) = "292.4". */
export function num(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return n > 0 ? "∞" : "−∞";
  const [int, frac] = Math.abs(n).toFixed(digits).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = n < 0 && Number(Math.abs(n).toFixed(digits)) !== 0 ? "-" : "";
  return `${sign}${grouped}${frac ? `.${frac}` : ""}`;
}

/** A share as a whole percentage: pct(0.7615) = "76 %". */
export function pct(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)} %` : "∞ %";
}

/** MiB per GiB, and decimal GB per GiB (Proxmox disk sizes are GiB; drives are sold in decimal TB). */
export const MIB_PER_GIB = 1024;
export const GB_PER_GIB = 1.073741824;
