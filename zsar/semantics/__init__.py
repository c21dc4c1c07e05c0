"""The class side: class names to vectors and the overlap filter, atomic actions, detected objects,
and the trainable top of a sentence encoder."""
