#!/bin/sh
# A one-file container image made on the spot and copied into a registry with skopeo, for
# trying image signing where no image can be pulled (no network, no Docker): an OCI image
# layout (config, one gzip layer holding FILE, manifest, index) in a temporary folder, then
# `skopeo copy oci:...` to DEST.
#
#   scripts/demo-image.sh FILE REGISTRY/REPO:TAG     e.g. hello.txt 127.0.0.1:5000/demo/hello:latest
set -eu
if [ $# -ne 2 ] || [ ! -f "$1" ]; then
  echo "usage: $0 FILE REGISTRY/REPO:TAG (FILE must exist)" >&2
  exit 2
fi
file=$1
dest=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/blobs/sha256"
# Put a blob in place; prints its digest (hex) and size.
blob() {
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$dir/blobs/sha256/$d"
  echo "$d $(wc -c <"$dir/blobs/sha256/$d" | tr -d ' ')"
}
tar -C "$(dirname "$file")" -cf "$dir/layer.tar" "$(basename "$file")"
diff_id=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
gzip -n "$dir/layer.tar"
set -- $(blob "$dir/layer.tar.gz")
layer=$1 layer_size=$2
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$diff_id" >"$dir/config.json"
set -- $(blob "$dir/config.json")
config=$1 config_size=$2
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$dir/manifest.json"
set -- $(blob "$dir/manifest.json")
manifest=$1 manifest_size=$2
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$manifest" "$manifest_size" >"$dir/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
skopeo copy --quiet --dest-tls-verify=false "oci:$dir:latest" "docker://$dest"
echo "copied $file as $dest (manifest sha256:$manifest)"
