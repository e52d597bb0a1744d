// How sizes and durations read in reports and status messages: the same words everywhere.

/** 0 B, 512 B, 12.0 KiB, 3.4 MiB, 1.2 GiB. */
export function bytesText(n: bigint | number): string {
  const big = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(big < 0n ? -big : big);
  let u = 0;
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024;
    u += 1;
  }
  return `${big < 0n ? '-' : ''}${u === 0 ? value : value.toFixed(1)} ${units[u]}`;
}

/** 112 ms, 2.5 s, 4.2 min, 3.1 h. */
export function secondsText(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** 7.5 % (one decimal). */
export const percentText = (p: number): string => `${p.toFixed(1)} %`;
