import type { Command } from 'commander';
import { registerUp } from './up.ts';
import { registerSignBlob } from './sign-blob.ts';
import { registerAttestBlob } from './attest-blob.ts';
import { registerGenerateKeyPair } from './generate-key-pair.ts';
import { registerSignBundle } from './sign-bundle.ts';
import { registerTrustedRoot } from './trusted-root.ts';
import { registerVerifyBlob } from './verify-blob.ts';
import { registerVerifyBlobAttestation } from './verify-blob-attestation.ts';
import { registerVerifyBundle } from './verify-bundle.ts';
import { registerInspect } from './inspect.ts';
import { registerRotate } from './rotate.ts';
import { registerBackup } from './backup.ts';
import { registerToken } from './token.ts';
import { registerPolicy } from './policy.ts';
import { registerSigningConfig } from './signing-config.ts';
import { registerAdmission } from './admission.ts';
import { registerSign } from './sign.ts';
import { registerVerify, registerVerifyAttestation } from './verify.ts';
import { registerAttest } from './attest.ts';
import { registerWitness } from './witness.ts';
import { registerGit } from './git.ts';
import { registerVerifyCommit, registerVerifyTag } from './verify-commit.ts';
import { registerImageTools } from './image-tools.ts';
import { registerVersion } from './version.ts';
import { registerEnv } from './env.ts';
import { registerCompletion } from './completion.ts';
import { registerKeysAndTrust } from './keys-trust.ts';
import { registerBundle } from './bundle.ts';
import { registerMonitor } from './monitor.ts';

/** Every `signet` command, one module each. Add a line per new command. */
export const COMMANDS: Array<(program: Command) => void> = [
  registerUp,
  registerSignBlob,
  registerAttestBlob,
  registerGenerateKeyPair,
  registerSignBundle,
  registerTrustedRoot,
  registerVerifyBlob,
  registerVerifyBlobAttestation,
  registerVerifyBundle,
  registerInspect,
  registerRotate,
  registerBackup,
  registerToken,
  registerPolicy,
  registerSigningConfig,
  registerSign,
  registerVerify,
  registerAttest,
  registerVerifyAttestation,
  registerWitness,
  registerGit,
  registerVerifyCommit,
  registerVerifyTag,
  registerImageTools,
  registerAdmission,
  registerVersion,
  registerEnv,
  registerCompletion,
  registerKeysAndTrust,
  registerBundle,
  registerMonitor,
];
