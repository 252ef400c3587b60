"""The edge to the PrimePOS-ShopV2 tills: file codecs, inbox, outbox, FTP, watcher."""
