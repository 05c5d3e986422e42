# Sourced by the scripts that build libjwtv (with $root set). JWTV_BACKEND
# picks the crypto library it verifies with: ring (the default) or aws-lc
# (ES512, faster ES384 and EdDSA). aws-lc builds go to target/aws-lc, so the
# two libraries never overwrite each other.
case "${JWTV_BACKEND:-ring}" in
    ring) jwtv_features=() ;;
    aws-lc)
        jwtv_features=(--features aws-lc)
        export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/aws-lc}"
        ;;
    *)
        echo "JWTV_BACKEND is ring or aws-lc, not '${JWTV_BACKEND}'" >&2
        exit 2
        ;;
esac
