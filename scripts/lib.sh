# Helpers shared by the scripts in this folder. Source it; do not run it.

# Installs Debian packages that are missing (as root, or through sudo).
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  (( ${#missing[@]} == 0 )) && return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Builds the web UI into web-assets/dist when it is missing or older than its sources.
ensure_web_assets() {
  local dist=web-assets/dist/index.html
  if [[ -f "$dist" ]] && [[ -z "$(find web-assets/src web-assets/package.json web-assets/package-lock.json web-assets/build.mjs -newer "$dist" 2>/dev/null | head -1)" ]]; then
    return 0
  fi
  scripts/build-web
}
