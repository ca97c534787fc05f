package engine

import "regexp"

// TagPattern is what an image tag may be, for Docker and ECR alike: letters, digits, '_',
// '.' and '-', at most 128, not starting with '.' or '-'.
var TagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
