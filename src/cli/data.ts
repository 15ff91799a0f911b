// `wgnn data`: where the data sets are, and installing the ones Debian packages.
import { installFashionMnist, locateFashionMnist } from '../data/fashion.js';
import { naturalImages, naturalImagesCacheDir } from '../data/natural.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIO } from './io.js';

export const dataUsage = `Usage: wgnn data [fashion-mnist|natural] [--install]

Without a name, lists the data sets and where they are. --install installs
Debian's dataset-fashion-mnist package (apt-get, as root or through sudo -n) or
downloads and extracts the natural photographs of Debian's python3-skimage
package into the cache. The embedded MNIST digits need nothing.
`;

export async function dataCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const name = argv[0] && !argv[0].startsWith('--') ? argv[0] : undefined;
  const a = parseArgs('data', name ? argv.slice(1) : argv, { install: 'flag' });
  if (a.flag('help')) {
    io.stdout(dataUsage);
    return 0;
  }
  if (name && name !== 'fashion-mnist' && name !== 'natural') throw new UsageError(`data: unknown data set ${JSON.stringify(name)}; expected fashion-mnist or natural`);
  if (!name || name === 'fashion-mnist') {
    let dir = locateFashionMnist();
    if (!dir && a.flag('install')) dir = await installFashionMnist({ echo: true });
    io.stdout(`fashion-mnist: ${dir ?? 'not installed (wgnn data fashion-mnist --install)'}\n`);
  }
  if (!name || name === 'natural') {
    if (a.flag('install')) {
      const images = await naturalImages({ echo: true });
      io.stdout(`natural: ${images.length} photographs in ${naturalImagesCacheDir()}\n`);
    } else {
      io.stdout(`natural: cache ${naturalImagesCacheDir()} (fetched on first use; wgnn data natural --install)\n`);
    }
  }
  io.stdout('mnist: embedded (10 000 digits from the mnist package)\n');
  return 0;
}
