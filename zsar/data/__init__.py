"""The data stages: dataset manifests and layouts, the video index and the data gate, the rendered
world, and the clip cache with its clip samplers."""
