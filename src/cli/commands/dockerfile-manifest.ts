/**
 * `signet dockerfile verify FILE` and `signet manifest verify FILE` (cosign's commands): the
 * images a Dockerfile builds from, or a Kubernetes manifest runs, verified as `signet verify`
 * verifies several images, with its flags.
 */
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { addImageVerifyFlags, runImageVerify, type ImageVerifyFlags } from './verify.ts';
import { reportError } from '../errors.ts';
import { verifyExitCode } from '../registry-flags.ts';

/** Extract the images, say which, and verify them; an extraction error ends as any other. */
async function verifyMentioned(
  extract: () => Promise<string[]>,
  what: string,
  flags: ImageVerifyFlags,
): Promise<void> {
  let images: string[];
  try {
    images = await extract();
    if (images.length === 0) throw invalid(what, `names no images`);
  } catch (e) {
    reportError(e);
    process.exitCode = verifyExitCode(e);
    return;
  }
  console.error(`Extracted image(s): ${images.join(', ')}`);
  await runImageVerify(images, flags, false);
}

export function registerDockerfileAndManifest(program: Command): void {
  const dockerfile = program
    .command('dockerfile')
    .description('the base images of a Dockerfile (as cosign dockerfile)');
  addImageVerifyFlags(
    dockerfile
      .command('verify')
      .description(
        'verify every image a Dockerfile builds from (FROM, COPY --from), build args and ENV substituted, else taken from the environment',
      )
      .argument('<dockerfile>')
      .option('--base-image-only', 'only the last FROM image (the one the result is based on)'),
  ).action(async (file: string, flags: ImageVerifyFlags & { baseImageOnly?: boolean }) => {
    const { baseImageOfDockerfile, imagesInDockerfile } =
      await import('../../core/oci/image-mentions.ts');
    await verifyMentioned(
      async () => {
        const { readText } = await import('../../client/sign/setup.ts');
        const read = flags.baseImageOnly ? baseImageOfDockerfile : imagesInDockerfile;
        return read(readText(file, 'dockerfile'), process.env, file);
      },
      file,
      flags,
    );
  });
  const manifest = program
    .command('manifest')
    .description('the images of a Kubernetes manifest (as cosign manifest)');
  addImageVerifyFlags(
    manifest
      .command('verify')
      .description(
        'verify every image a Kubernetes manifest runs (pods, pod templates, cron job templates; containers and init containers)',
      )
      .argument('<manifest>', 'a .yaml, .yml or .json file'),
  ).action(async (file: string, flags: ImageVerifyFlags) => {
    const { imagesInKubernetesManifest } = await import('../../core/oci/image-mentions.ts');
    await verifyMentioned(
      async () => {
        if (!/\.(ya?ml|json)$/i.test(file))
          throw invalid('manifest', `${file} is not a .yaml, .yml or .json file`);
        const { readText } = await import('../../client/sign/setup.ts');
        return imagesInKubernetesManifest(readText(file, 'manifest'), file);
      },
      file,
      flags,
    );
  });
}
