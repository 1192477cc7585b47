// Whether the server pods run the test STAND-IN of RobustMQ (this repository's test/standin, in the local replica
// image `localhost/robustmq-standin:<tag>`) instead of RobustMQ. A health report on the stand-in proves the chart and
// the CLI, never RobustMQ, so every report of health says so.
//
// Told by the image name, not by an answer of the server: the stand-in answers byte for byte like v0.4.11 on every
// surface the CLI reads (that is its job), while its image has a name of its own that the real image never has (the
// replica is named so that it can never shadow ghcr.io/robustmq/robustmq). The rule is the repository's last path
// component being exactly `robustmq-standin`, whatever the registry, tag or digest: `robustmq`, `robustmq-standin-x`
// or a registry host called robustmq-standin never match.
// Pure.

const STANDIN_REPOSITORY = 'robustmq-standin';

/** The repository's last path component of an image reference (no registry, tag or digest). */
function lastPathComponent(image: string): string {
  const noDigest = image.split('@')[0]!;
  const parts = noDigest.split('/');
  const last = parts[parts.length - 1]!;
  // a colon in the last component is the tag (a registry port can only be in the first component)
  const colon = last.indexOf(':');
  return colon < 0 ? last : last.slice(0, colon);
}

export function isStandInImage(image: string): boolean {
  return lastPathComponent(image.trim()) === STANDIN_REPOSITORY;
}

/** The first stand-in image among the server containers' images, or undefined. */
export function standInImageOf(images: (string | undefined)[]): string | undefined {
  return images.find((i): i is string => typeof i === 'string' && isStandInImage(i));
}

/** The line every health report carries when the servers are the stand-in. */
export function standInNote(image: string): string {
  return `STAND-IN: the servers run ${image}, the test stand-in of RobustMQ, not RobustMQ: this health proves the chart and the CLI, not RobustMQ`;
}

/** Server-container images of pods (the `robustmq` container, else the first), for standInImageOf. */
export function serverImages(pods: { spec?: { containers?: { name: string; image?: string }[] } }[]): (string | undefined)[] {
  return pods.map((p) => (p.spec?.containers?.find((c) => c.name === 'robustmq') ?? p.spec?.containers?.[0])?.image);
}
