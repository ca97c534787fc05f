// Package push holds BenchmarkPush, run by bench/run.sh (make bench) only: the
// openhands-ecr post-processor's push against `docker push` of the same image, both to
// registry doubles on 127.0.0.1 (acctest/ecrtest).
package push
