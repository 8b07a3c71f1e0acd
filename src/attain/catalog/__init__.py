"""What is sold and to whom: the product hierarchy and customers."""
