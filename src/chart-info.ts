import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** chart name/version/appVersion from Chart.yaml without a YAML parser (keeps --version light). */
export function bundledChartInfo(chartDir: string): { name?: string; version?: string; appVersion?: string } {
  try {
    const text = readFileSync(join(chartDir, 'Chart.yaml'), 'utf8');
    const get = (k: string) => new RegExp(`^${k}:\\s*["']?([^"'\\n#]+?)["']?\\s*(#.*)?$`, 'm').exec(text)?.[1];
    return { name: get('name'), version: get('version'), appVersion: get('appVersion') };
  } catch {
    return {};
  }
}

