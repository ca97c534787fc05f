PATH="$OH_NODEJS/bin:$PATH"
version=$(node --version) && npm_version=$(npm --version) && npx --version >/dev/null || exit 1
case $version in
v@NODE_MAJOR@.*) echo "node $version, npm $npm_version" ;;
*) echo "node $version at $OH_NODEJS, not Node.js @NODE_MAJOR@"; exit 1 ;;
esac
