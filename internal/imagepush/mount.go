package imagepush

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// blobFound is where a blob was found for the repository pushed to.
type blobFound int

const (
	blobAbsent  blobFound = iota
	blobPresent           // in the repository already
	blobMounted           // mounted (or, where the registry does not mount, copied) from another
)

// mountOrFind looks for the blob desc in repo, else has the registry mount it from one of
// the repositories the cache names (newest first) that holds it; lenders collects those.
func (p *Pusher) mountOrFind(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, repo name.Repository, desc v1.Descriptor, known []string, lenders *[]name.Repository) (blobFound, error) {
	if size, found, err := blobSize(ctx, puller, repo, desc.Digest); err != nil {
		return blobAbsent, err
	} else if found && size == desc.Size {
		return blobPresent, nil
	}
	for _, r := range slices.Backward(known) {
		lender, err := name.NewRepository(r)
		if err != nil || lender.RegistryStr() != repo.RegistryStr() || lender.String() == repo.String() {
			continue
		}
		size, found, err := p.mount(ctx, puller, pusher, repo, lender, desc.Digest)
		if err != nil {
			return blobAbsent, err
		}
		if found && size == desc.Size {
			if !slices.ContainsFunc(*lenders, func(l name.Repository) bool { return l.String() == lender.String() }) {
				*lenders = append(*lenders, lender)
			}
			return blobMounted, nil
		}
	}
	return blobAbsent, nil
}

// mount has the registry mount blob d of lender into repo (ECR with blob mounting enabled
// does; a registry that does not is sent the blob read from lender, which still spares the
// export and the compression). found is false when lender does not hold the blob.
func (p *Pusher) mount(ctx context.Context, puller *remote.Puller, pusher *remote.Pusher, repo, lender name.Repository, d v1.Hash) (int64, bool, error) {
	if _, no := p.unreadable.Load(lender.String()); no {
		return 0, false, nil
	}
	size, found, err := blobSize(ctx, puller, lender, d)
	// A least-privilege policy names the pushed repository only: reading another is refused,
	// and its layers are uploaded as any others.
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		if _, seen := p.unreadable.LoadOrStore(lender.String(), true); !seen {
			log.Printf("[INFO] push: no blob is mounted from %s, which the credentials may not read (HTTP %d): its layers are uploaded", lender, terr.StatusCode)
		}
		return 0, false, nil
	}
	if err != nil || !found {
		return 0, false, err
	}
	l, err := puller.Layer(ctx, lender.Digest(d.String()))
	if err != nil {
		return 0, false, err
	}
	if err := pusher.Upload(ctx, repo, &remote.MountableLayer{Layer: l, Reference: lender.Digest(d.String())}); err != nil {
		return 0, false, fmt.Errorf("mounting blob %s of %s into %s: %w", d, lender, repo, err)
	}
	log.Printf("[INFO] push: blob %s mounted (or copied) from %s", d, lender)
	return size, true, nil
}

// remember records a layer's blob in the cache; a cache that cannot be written only costs time.
func (p *Pusher) remember(diffID v1.Hash, b cachedBlob) {
	if err := p.Cache.put(diffID, p.Compression, b); err != nil {
		log.Printf("[WARN] push: writing the blob cache: %v", err)
	}
}

// blobSize asks the registry for a blob (HEAD): its size, or found false when it has none.
func blobSize(ctx context.Context, puller *remote.Puller, repo name.Repository, d v1.Hash) (int64, bool, error) {
	l, err := puller.Layer(ctx, repo.Digest(d.String()))
	if err != nil {
		return 0, false, err
	}
	size, err := l.Size()
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("looking for blob %s in %s: %w", d, repo, err)
	}
	return size, true, nil
}
